/*
 * zkp_capture_c.c - the C-client scenario of tests/fuzz/zkp_capture.py:
 * a few synchronous calls of Apache ZooKeeper's C client (libzookeeper_mt
 * 3.8) through the recording proxy given as argv[1]. Not part of the build.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#define THREADED 1 /* the synchronous API of libzookeeper_mt */
#include <zookeeper/zookeeper.h>

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh, (void)type, (void)state, (void)path, (void)ctx;
}

int main(int argc, char **argv)
{
    char buf[256];
    int len = sizeof(buf);
    struct Stat st;
    struct String_vector kids;

    if (argc < 2)
        return 2;
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t *zh = zookeeper_init(argv[1], watcher, 30000, NULL, NULL, 0);
    for (int i = 0; i < 100 && zoo_state(zh) != ZOO_CONNECTED_STATE; i++)
        usleep(50000);
    if (zoo_state(zh) != ZOO_CONNECTED_STATE)
        return 1;
    zoo_create(zh, "/cc", "c", 1, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof(buf));
    zoo_create2(zh, "/cc/e", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, buf,
                sizeof(buf), &st);
    zoo_get(zh, "/cc", 1, buf, &len, &st);
    zoo_wget_children2(zh, "/cc", watcher, NULL, &kids, &st);
    deallocate_String_vector(&kids);
    zoo_set(zh, "/cc", "cc", 2, 0);
    zoo_delete(zh, "/cc/e", -1);
    zookeeper_close(zh);
    return 0;
}
