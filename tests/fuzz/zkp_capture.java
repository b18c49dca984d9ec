/*
 * zkp_capture.java - the Java-client scenario of tests/fuzz/zkp_capture.py.
 *
 * Runs every request type the ZooKeeper 3.8 Java client can send once,
 * through the recording proxy given as argv[0]. When it prints "DROP" the
 * proxy cuts the connection and answers on stdin; the client then
 * reconnects with its session and re-arms its watches (setWatches2 with
 * persistent watches, setWatches without).
 */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.Stat;

class ZkpCapture {
    static final BufferedReader IN =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /* A session whose connected events can be awaited again after a drop. */
    static ZooKeeper connect(String hp, AtomicReference<CountDownLatch> up) throws Exception {
        up.set(new CountDownLatch(1));
        ZooKeeper zk = new ZooKeeper(hp, 30000, e -> {
            if (e.getState() == KeeperState.SyncConnected && e.getType() == Watcher.Event.EventType.None)
                up.get().countDown();
        });
        if (!up.get().await(10, TimeUnit.SECONDS))
            throw new IllegalStateException("no connection");
        return zk;
    }

    static void drop(AtomicReference<CountDownLatch> up) throws Exception {
        up.set(new CountDownLatch(1));
        System.out.println("DROP");
        System.out.flush();
        IN.readLine();
        if (!up.get().await(15, TimeUnit.SECONDS))
            throw new IllegalStateException("no reconnection");
        Thread.sleep(300);
    }

    public static void main(String[] args) throws Exception {
        String hp = args[0];
        AtomicReference<CountDownLatch> up = new AtomicReference<>();
        ZooKeeper zk = connect(hp, up);
        Watcher none = e -> { };
        Stat st = new Stat();

        zk.create("/jv", b("root"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/jv/p2", b("two"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, st);
        zk.create("/jv/cont", null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER, st);
        zk.create("/jv/cont/x", b(""), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/jv/ttl", b("t"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, st, 60000);
        zk.create("/jv/es-", b("e"), Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL, st);
        zk.create("/jv/eph", b("e"), Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        try {
            zk.create("/jv/bad", b(""), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, st, 0);
        } catch (IllegalArgumentException | KeeperException e) {
            System.out.println("ttl 0: " + e);
        }
        zk.getData("/jv", true, st);
        zk.getData("/jv/cont", false, st);
        zk.exists("/jv/nothere", true);
        zk.getChildren("/jv", true);
        zk.getChildren("/jv", false, st);
        zk.getEphemerals("/jv");
        zk.getEphemerals();
        zk.getAllChildrenNumber("/jv");
        zk.whoAmI();
        zk.addAuthInfo("digest", b("alice:pw"));
        zk.whoAmI();
        zk.setACL("/jv/p2", Ids.CREATOR_ALL_ACL, -1);
        zk.getACL("/jv/p2", st);
        zk.sync("/jv", (rc, path, ctx) -> { }, null);
        zk.multi(Arrays.asList(
            Op.create("/jv/m1", b("m"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
            Op.create("/jv/m2", b("m"), Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER),
            Op.create("/jv/m3", b("m"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, 30000),
            Op.setData("/jv/m1", b("mm"), 0),
            Op.check("/jv/m1", 1),
            Op.delete("/jv/m1", 1)));
        try {
            zk.multi(Arrays.asList(
                Op.create("/jv/n1", b("n"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.delete("/jv/nothere", -1),
                Op.setData("/jv", b("x"), -1)));
        } catch (KeeperException e) {
            System.out.println("multi failed as planned: " + e.code());
        }
        zk.multi(Arrays.asList(Op.getData("/jv"), Op.getChildren("/jv"), Op.getData("/jv/nothere")));
        zk.addWatch("/jv/p2", AddWatchMode.PERSISTENT);
        zk.addWatch("/jv", AddWatchMode.PERSISTENT_RECURSIVE);
        zk.getData("/jv/p2", none, st);
        zk.removeWatches("/jv/p2", none, Watcher.WatcherType.Data, false);
        try {
            zk.removeAllWatches("/jv/nothere", Watcher.WatcherType.Any, false);
        } catch (KeeperException e) {
            System.out.println("removeAllWatches: " + e.code());
        }
        zk.exists("/jv/later", true);
        drop(up); /* re-armed with setWatches2 (persistent watches exist) */
        zk.setData("/jv", b("changed"), -1);
        zk.create("/jv/later", b("l"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.delete("/jv/p2", -1);
        Thread.sleep(300);
        zk.close();

        ZooKeeper zk2 = connect(hp, up);
        zk2.getData("/jv", true, st);
        zk2.exists("/jv/gone", true);
        zk2.getChildren("/jv", true);
        drop(up); /* re-armed with plain setWatches */
        zk2.setData("/jv", b("again"), -1);
        Thread.sleep(300);
        zk2.close();

        ZooKeeperAdmin admin = new ZooKeeperAdmin(hp, 30000, e -> { });
        try {
            admin.reconfigure("server.5=127.0.0.1:1234:1235;2185", null, null, -1, st);
        } catch (KeeperException e) {
            System.out.println("reconfig: " + e.code());
        }
        admin.close();
    }
}
