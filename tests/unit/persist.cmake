# Persistence loop tests: the daemon's pipeline and storage (zkd_core) on a
# real uv_loop, with the POSIX or the fault-injecting fileops table.
set(ZK_PERSIST_FIX ${CMAKE_CURRENT_LIST_DIR}/persist_fixture.c
                   ${CMAKE_CURRENT_LIST_DIR}/wal_testutil.c)
foreach(t persist persist_crash)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${t}_test.c)
    zk_unit_test(test_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}_test.c ${ZK_PERSIST_FIX}
                 LIBS zkd_core)
    target_include_directories(test_${t} PRIVATE ${PROJECT_SOURCE_DIR}/registry)
  endif()
endforeach()
