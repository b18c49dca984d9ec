# Daemon pieces: buffers, id map, addresses, and loop tests of the pipeline
# that end by asserting uv_loop_close() == 0 (a leaked handle fails).
zk_unit_test(test_daemon SOURCES ${CMAKE_CURRENT_LIST_DIR}/daemon_test.c LIBS zkd_core)
