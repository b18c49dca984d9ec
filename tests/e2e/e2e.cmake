# End-to-end tests: pytest drives the built daemon over real sockets.
# Debian's python3 (with pytest, pycares, dnspython, kazoo) is /usr/bin/python3.
find_program(ZK_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
set(ZK_E2E_DIR ${CMAKE_CURRENT_LIST_DIR})

# zk_e2e_test(NAME FILE): one pytest file as one ctest test.
function(zk_e2e_test name file)
  add_test(NAME ${name}
           COMMAND ${ZK_PYTHON3} -m pytest -q -p no:cacheprovider ${ZK_E2E_DIR}/${file})
  set_tests_properties(${name} PROPERTIES
    TIMEOUT 600 LABELS e2e
    ENVIRONMENT "ZK_DAEMON=$<TARGET_FILE:zonekeeperd>;ZK_CLI=${PROJECT_BINARY_DIR}/cli/zonekeeper;PYTHONPATH=${ZK_E2E_DIR};ASAN_OPTIONS=detect_leaks=1:abort_on_error=0")
endfunction()

if(TARGET zonekeeperd)
  zk_e2e_test(e2e_foundation test_foundation.py)
  zk_e2e_test(e2e_dns test_dns.py)
  # The ZooKeeper wire protocol with real clients (kazoo, zkCli.sh, the C
  # client) and against Apache ZooKeeper 3.8 (Debian's zookeeper package).
  zk_e2e_test(e2e_zk_kazoo test_zk_kazoo.py)
  zk_e2e_test(e2e_zk_differential test_zk_differential.py)
  zk_e2e_test(e2e_zk_cli test_zk_cli.py)
  zk_e2e_test(e2e_zk_badinput test_zk_badinput.py)
  zk_e2e_test(e2e_zk_c test_zk_c.py)
  zk_e2e_test(e2e_persist test_persist.py)
  # A failing disk under the real daemon: faultshim.c, preloaded, makes
  # pwrite/fsync/fdatasync in the data directory fail on cue. Also
  # EXTEND_TIMEOUT_USEC to NOTIFY_SOCKET during a long replay.
  find_package(Threads REQUIRED)
  add_library(zk_faultshim MODULE ${ZK_E2E_DIR}/faultshim.c)
  target_link_libraries(zk_faultshim PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
  zk_e2e_test(e2e_faults test_faults.py)
  set_property(TEST e2e_faults APPEND PROPERTY ENVIRONMENT
               "ZK_FAULTSHIM=$<TARGET_FILE:zk_faultshim>")
  # The C client test program, when libzookeeper-mt-dev is installed.
  find_path(ZK_C_CLIENT_INCLUDE zookeeper/zookeeper.h)
  find_library(ZK_C_CLIENT_LIB zookeeper_mt)
  find_package(Threads)
  if(ZK_C_CLIENT_INCLUDE AND ZK_C_CLIENT_LIB AND Threads_FOUND)
    add_executable(zkc_test ${ZK_E2E_DIR}/zkc/zkc_test.c)
    target_compile_definitions(zkc_test PRIVATE THREADED)
    target_include_directories(zkc_test SYSTEM PRIVATE ${ZK_C_CLIENT_INCLUDE})
    target_link_libraries(zkc_test PRIVATE ${ZK_C_CLIENT_LIB} Threads::Threads)
    set_property(TEST e2e_zk_c APPEND PROPERTY ENVIRONMENT "ZKC_TEST=$<TARGET_FILE:zkc_test>")
  endif()
endif()
