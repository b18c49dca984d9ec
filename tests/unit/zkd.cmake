# The ZooKeeper wire protocol of the daemon (daemon/d_zk*.c, d_4lw*.c): loop
# tests with a daemon core in the test process and real TCP clients in a
# thread, ending with uv_loop_close() == 0.
find_package(Threads REQUIRED)
zk_unit_test(test_zkd SOURCES ${CMAKE_CURRENT_LIST_DIR}/zkd_test.c
             ${CMAKE_CURRENT_LIST_DIR}/zkd_fixture.c LIBS zkd_core Threads::Threads)
