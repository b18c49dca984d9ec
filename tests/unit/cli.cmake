# cli/ tests: the quoting of request words, and the built binary against a
# scripted fake daemon.
zk_unit_test(test_cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/cli_test.c LIBS zk_cli_quote)

zk_unit_test(test_cli_run SOURCES ${CMAKE_CURRENT_LIST_DIR}/cli_run_test.c)
target_compile_definitions(test_cli_run PRIVATE ZK_CLI_BIN="$<TARGET_FILE:zonekeeper>")
add_dependencies(test_cli_run zonekeeper)
