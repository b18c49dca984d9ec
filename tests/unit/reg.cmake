# Unit tests of the registry core (registry/reg.h). Each file is its own
# executable; reg_fixture.c holds the shared helpers.
set(ZK_REG_FIX ${CMAKE_CURRENT_LIST_DIR}/reg_fixture.c)
foreach(t tree pipeline session watch codec)
  zk_unit_test(test_reg_${t}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/reg_${t}_test.c ${ZK_REG_FIX}
    LIBS zk_registry)
  target_include_directories(test_reg_${t} PRIVATE ${PROJECT_SOURCE_DIR}/registry)
endforeach()

# The fuzz target of what recovery trusts once checksums pass (snapshot
# streams, log txns): as a test, its own seeds plus seeded mutations; with
# -DZK_FUZZ=ON (clang; see dns.cmake) also the libFuzzer binary
# store_fuzz_lf, seeded by `store_fuzz --write-seeds DIR`.
set(ZK_STORE_FUZZ ${CMAKE_CURRENT_LIST_DIR}/../fuzz/store_fuzz.c)
add_executable(store_fuzz ${ZK_STORE_FUZZ})
target_include_directories(store_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/registry)
target_link_libraries(store_fuzz PRIVATE zk_registry)
add_test(NAME store_fuzz COMMAND store_fuzz ${CMAKE_CURRENT_LIST_DIR}/../fuzz/store_corpus)
set_tests_properties(store_fuzz PROPERTIES TIMEOUT 60 LABELS unit)
if(ZK_FUZZ)
  target_compile_options(zk_registry PRIVATE -fsanitize=fuzzer-no-link)
  add_executable(store_fuzz_lf ${ZK_STORE_FUZZ})
  target_compile_definitions(store_fuzz_lf PRIVATE STORE_FUZZ_LIBFUZZER)
  target_include_directories(store_fuzz_lf PRIVATE ${PROJECT_SOURCE_DIR}/registry)
  target_compile_options(store_fuzz_lf PRIVATE -fsanitize=fuzzer)
  target_link_options(store_fuzz_lf PRIVATE -fsanitize=fuzzer)
  target_link_libraries(store_fuzz_lf PRIVATE zk_registry)
endif()
