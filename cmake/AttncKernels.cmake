# Compiling .attn programs at build time, for the tests and the benchmarks.

# attnc_test_kernels(<libs-var> <dir> <program.attn> [TARGETS <t1,t2>] [GRAD]):
# compiles the program with attnc at build time into <dir> and appends
# <dir>/<stem>.a to <libs-var> (its header is <dir>/<stem>.h); GRAD adds
# attnc --grad (NAME_backward kernels). The tests and the benchmarks use it.
function(attnc_test_kernels libs dir src)
  cmake_parse_arguments(ARG "GRAD" "TARGETS" "" ${ARGN})
  get_filename_component(stem ${src} NAME_WE)
  set(target_flag)
  if(ARG_TARGETS)
    set(target_flag --target=${ARG_TARGETS})
  endif()
  if(ARG_GRAD)
    list(APPEND target_flag --grad)
  endif()
  add_custom_command(
    OUTPUT ${dir}/${stem}.a ${dir}/${stem}.h
    COMMAND attnc ${src} -o ${dir} --quiet ${target_flag}
    DEPENDS attnc ${src}
    COMMENT "attnc ${stem}.attn ${target_flag}"
    VERBATIM)
  set(${libs} ${${libs}} ${dir}/${stem}.a PARENT_SCOPE)
endfunction()
