# conf/ unit tests and the systemd unit check.
zk_unit_test(test_conf SOURCES ${CMAKE_CURRENT_LIST_DIR}/conf_test.c LIBS zk_conf)
target_compile_definitions(test_conf PRIVATE ZK_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# systemd-analyze verify + security (exposure must stay under 2.0);
# exit 77 = skipped when systemd-analyze is not installed.
add_test(NAME systemd_unit
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/systemd_unit_test.sh
                 ${PROJECT_SOURCE_DIR}/systemd/zonekeeper.service)
set_tests_properties(systemd_unit PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)
