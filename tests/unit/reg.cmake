# Unit tests of the registry core (registry/reg.h). Each file is its own
# executable; reg_fixture.c holds the shared helpers.
set(ZK_REG_FIX ${CMAKE_CURRENT_LIST_DIR}/reg_fixture.c)
foreach(t tree pipeline session watch codec)
  zk_unit_test(test_reg_${t}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/reg_${t}_test.c ${ZK_REG_FIX}
    LIBS zk_registry)
  target_include_directories(test_reg_${t} PRIVATE ${PROJECT_SOURCE_DIR}/registry)
endforeach()
