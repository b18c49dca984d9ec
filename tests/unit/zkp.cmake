# The ZooKeeper protocol codec (daemon/proto_zk*.c in zk_proto).
zk_unit_test(test_zkp SOURCES ${CMAKE_CURRENT_LIST_DIR}/zkp_test.c LIBS zk_proto)

# Its fuzz target, built without libFuzzer: replays the corpus of captured
# client frames and a few thousand seeded mutations of them.
add_executable(zkp_fuzz ${CMAKE_CURRENT_LIST_DIR}/../fuzz/zkp_fuzz.c)
target_link_libraries(zkp_fuzz PRIVATE zk_proto)
add_dependencies(test_zkp zkp_fuzz)
add_test(NAME zkp_fuzz COMMAND zkp_fuzz ${CMAKE_CURRENT_LIST_DIR}/../fuzz/zkp_corpus)
set_tests_properties(zkp_fuzz PROPERTIES TIMEOUT 60 LABELS unit)

# With -DZK_FUZZ=ON (clang; see dns.cmake), the real libFuzzer binary too,
# over a codec built with coverage: ./zkp_fuzz_lf tests/fuzz/zkp_corpus
if(ZK_FUZZ)
  target_compile_options(zk_proto PRIVATE -fsanitize=fuzzer-no-link)
  add_executable(zkp_fuzz_lf ${CMAKE_CURRENT_LIST_DIR}/../fuzz/zkp_fuzz.c)
  target_compile_definitions(zkp_fuzz_lf PRIVATE ZKP_FUZZ_LIBFUZZER)
  target_compile_options(zkp_fuzz_lf PRIVATE -fsanitize=fuzzer)
  target_link_options(zkp_fuzz_lf PRIVATE -fsanitize=fuzzer)
  target_link_libraries(zkp_fuzz_lf PRIVATE zk_proto)
endif()
