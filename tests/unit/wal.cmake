# Storage layer tests: write-ahead log, snapshot files, fault injection.
# The storage sources are compiled in directly as well, so these tests build
# even while other registry files are mid-change.
set(ZK_WAL_SOURCES
  ${PROJECT_SOURCE_DIR}/registry/crc32c.c
  ${PROJECT_SOURCE_DIR}/registry/fileops.c
  ${PROJECT_SOURCE_DIR}/registry/fileops_fault.c
  ${PROJECT_SOURCE_DIR}/registry/wal.c
  ${PROJECT_SOURCE_DIR}/registry/wal_scan.c
  ${PROJECT_SOURCE_DIR}/registry/wal_check.c
  ${PROJECT_SOURCE_DIR}/registry/snapfile.c
  ${PROJECT_SOURCE_DIR}/registry/trash.c
  ${CMAKE_CURRENT_LIST_DIR}/wal_testutil.c)
find_package(Threads REQUIRED)

foreach(t test_wal test_wal_fault test_wal_snap test_wal_crash test_wal_prealloc test_trash)
  string(REPLACE "test_" "" src ${t})
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${src}_test.c)
    zk_unit_test(${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${src}_test.c ${ZK_WAL_SOURCES}
                 LIBS Threads::Threads)
    target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/registry)
  endif()
endforeach()
