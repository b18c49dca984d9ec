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
