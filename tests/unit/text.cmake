# Unit tests of the socket protocol (daemon/text_session.c, proto_text_*.c):
# the tokenizer alone, then the verbs, REGISTER and a fuzz run against a real
# registry through a shared fixture (text_fixture.c).
zk_unit_test(test_text_token SOURCES ${CMAKE_CURRENT_LIST_DIR}/text_token_test.c LIBS zk_proto)
zk_unit_test(test_text
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/text_test.c ${CMAKE_CURRENT_LIST_DIR}/text_fixture.c
             LIBS zk_proto)
zk_unit_test(test_text_register
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/text_register_test.c
                     ${CMAKE_CURRENT_LIST_DIR}/text_fixture.c
             LIBS zk_proto PkgConfig::JANSSON)
zk_unit_test(test_text_fuzz
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/text_fuzz_test.c
                     ${CMAKE_CURRENT_LIST_DIR}/text_fixture.c
             LIBS zk_proto)
# `--target test_text` builds the whole family, so `ctest -R text` finds them all.
add_dependencies(test_text test_text_token test_text_register test_text_fuzz)

# The protocol's fuzz target: as a test, its seed conversations plus 5 s of
# seeded mutations; with -DZK_FUZZ=ON (clang; see dns.cmake) also the
# libFuzzer binary text_fuzz_lf, seeded by `text_fuzz --write-seeds DIR`.
set(ZK_TEXT_FUZZ ${CMAKE_CURRENT_LIST_DIR}/../fuzz/text_fuzz.c)
add_executable(text_fuzz ${ZK_TEXT_FUZZ})
target_link_libraries(text_fuzz PRIVATE zk_proto)
add_dependencies(test_text text_fuzz)
add_test(NAME text_fuzz COMMAND text_fuzz)
set_tests_properties(text_fuzz PROPERTIES TIMEOUT 60 LABELS unit)
if(ZK_FUZZ)
  add_executable(text_fuzz_lf ${ZK_TEXT_FUZZ})
  target_compile_definitions(text_fuzz_lf PRIVATE TEXT_FUZZ_LIBFUZZER)
  target_compile_options(text_fuzz_lf PRIVATE -fsanitize=fuzzer)
  target_link_options(text_fuzz_lf PRIVATE -fsanitize=fuzzer)
  target_link_libraries(text_fuzz_lf PRIVATE zk_proto)
endif()
