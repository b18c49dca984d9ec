# DNS frontend tests: the cmocka suite, and the fuzz target run as an ordinary
# test (corpus replay plus bounded pseudo-random mutations). With clang,
# -DZK_FUZZ=ON (and CMAKE_C_COMPILER=clang) also builds the real libFuzzer
# binary dns_fuzz: ./dns_fuzz tests/fuzz/corpus/dns
zk_unit_test(test_dns SOURCES ${CMAKE_CURRENT_LIST_DIR}/dns_test.c
             LIBS zk_dns PkgConfig::LDNS)

set(ZK_DNS_FUZZ_DIR ${PROJECT_SOURCE_DIR}/tests/fuzz)
add_executable(test_dns_fuzz ${ZK_DNS_FUZZ_DIR}/dns_fuzz.c ${ZK_DNS_FUZZ_DIR}/dns_fuzz_replay.c)
target_link_libraries(test_dns_fuzz PRIVATE zk_dns PkgConfig::LDNS)
add_test(NAME test_dns_fuzz COMMAND test_dns_fuzz ${ZK_DNS_FUZZ_DIR}/corpus/dns)
set_tests_properties(test_dns_fuzz PROPERTIES TIMEOUT 120 LABELS unit)

option(ZK_FUZZ "Build libFuzzer targets (needs clang)" OFF)
if(ZK_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ZK_FUZZ needs clang: -DCMAKE_C_COMPILER=clang")
  endif()
  target_compile_options(zk_dns PRIVATE -fsanitize=fuzzer-no-link)
  add_executable(dns_fuzz ${ZK_DNS_FUZZ_DIR}/dns_fuzz.c)
  target_compile_options(dns_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_options(dns_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_libraries(dns_fuzz PRIVATE zk_dns PkgConfig::LDNS)
endif()
