# The daemon's DNS over UDP (daemon/d_dns_udp.c): loop tests with a daemon
# core in the test process and UDP clients in a thread (zkd_fixture), ending
# with uv_loop_close() == 0.
find_package(Threads REQUIRED)
zk_unit_test(test_dnsd SOURCES ${CMAKE_CURRENT_LIST_DIR}/dnsd_test.c
             ${CMAKE_CURRENT_LIST_DIR}/zkd_fixture.c LIBS zkd_core Threads::Threads)
