# cmake -DOBJDUMP=objdump -DBINARY=path/to/attnc-gpu-bench -P CheckSelfContained.cmake
#
# Fails when BINARY needs a shared library beyond glibc's (libc, libm, libdl,
# libpthread, librt, the dynamic loader): attnc-gpu-bench and
# attnc-cuda-examples run on GPU machines that have no C++ runtime
# installed. Prints the newest GLIBC_ symbol version it references, the
# oldest glibc it starts on. Messages name the binary by its file name.
if(NOT DEFINED BINARY OR BINARY STREQUAL "")
  message(FATAL_ERROR "CheckSelfContained.cmake: set -DBINARY=<path of the binary>")
endif()
get_filename_component(name "${BINARY}" NAME)
execute_process(COMMAND ${OBJDUMP} -p ${BINARY}
  OUTPUT_VARIABLE headers RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0)
  message(STATUS "${name}: '${OBJDUMP} -p' failed; dependencies not checked")
  return()
endif()
string(REGEX MATCHALL "NEEDED +[^\n]+" needed "${headers}")
set(bad "")
foreach(line IN LISTS needed)
  string(REGEX REPLACE "NEEDED +" "" lib "${line}")
  string(STRIP "${lib}" lib)
  if(NOT lib MATCHES "^(libc|libm|libdl|libpthread|librt)\\.so\\.[0-9]+$"
     AND NOT lib MATCHES "^ld-linux[-_a-z0-9]*\\.so\\.[0-9]+$")
    list(APPEND bad "${lib}")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "${name} needs ${bad}: it must depend on glibc only "
                      "(link libstdc++ and libgcc statically)")
endif()

execute_process(COMMAND ${OBJDUMP} -T ${BINARY}
  OUTPUT_VARIABLE symbols RESULT_VARIABLE rc ERROR_QUIET)
if(rc EQUAL 0)
  string(REGEX MATCHALL "GLIBC_2\\.[0-9]+" versions "${symbols}")
  list(REMOVE_DUPLICATES versions)
  set(newest 0)
  foreach(v IN LISTS versions)
    string(REPLACE "GLIBC_2." "" minor "${v}")
    if(minor GREATER newest)
      set(newest ${minor})
    endif()
  endforeach()
  message(STATUS "${name}: depends on glibc only; needs glibc >= 2.${newest}")
endif()
