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
endif()
