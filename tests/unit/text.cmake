# Unit tests of the socket protocol (daemon/text_session.c, proto_text_*.c).
zk_unit_test(test_text_token SOURCES ${CMAKE_CURRENT_LIST_DIR}/text_token_test.c LIBS zk_proto)
