# Helpers of the CTest scripts that run a program printing one JSON object
# and check its fields (check_pool_json.cmake, check_dma_json.cmake,
# check_stale_json.cmake, tools/check_demo_json.cmake).  They check that
# every field is there, that counts are exact and figures consistent with
# each other, never that a figure meets a target: a test never depends on
# the machine's speed (sanitizer builds and qemu-user are 5-50x slower).
#
#   check_json_run(<program> <arg>...)
#       runs it (under EMULATOR, the cross emulator with `|` between its
#       words: CTest adds it only to commands that name a target, not to a
#       script) and sets `out`; a non-zero exit is fatal.  Returns from the
#       script (after the exit check) when CMake has no string(JSON).
#   json_num(<var> <key>...)   the number at the key path into <var>; a
#                              failure and "" when it is missing or not one
#   json_str(<var> <key>...)   the same for a string
#   json_bool(<var> <key>...)  the same for a boolean (ON or OFF)
#   check_range(<what> <value> <lo> <hi>)  lo <= value <= hi, else a failure
#                                           ("" skips: already reported)
#   check_eq(<what> <value> <want>)        value == want (numbers)
#   check_ratio(<what> <value> <num> <den>)
#       value (a printed ratio) is num / den (integers) within 0.001
#   check_fail(<message>)
#   check_plot(<dir> <name> <min rows>)
#       --plot wrote <dir>/<name>.dat with at least <min rows> data rows
#       and <name>.gp, and <name>.png when gnuplot is installed
#   check_json_done(<name>)    fatal with every failure, or a pass line
cmake_minimum_required(VERSION 3.16)

set(check_failures "")

macro(check_fail msg)
  string(APPEND check_failures "  ${msg}\n")
endmacro()

macro(check_json_run)
  set(check_emu "")
  if(EMULATOR)
    string(REPLACE "|" ";" check_emu "${EMULATOR}")
  endif()
  set(check_cmd ${ARGN})
  string(REPLACE ";" " " check_cmd_text "${check_cmd}")
  execute_process(COMMAND ${check_emu} ${check_cmd}
                  RESULT_VARIABLE check_rc OUTPUT_VARIABLE out ERROR_VARIABLE check_err)
  message("${check_err}")
  if(NOT check_rc EQUAL 0)
    message(FATAL_ERROR "${check_cmd_text} exited with ${check_rc}\n${out}")
  endif()
  message("${out}")
  if(CMAKE_VERSION VERSION_LESS 3.19)
    message("${check_cmd_text}: exit status checked only "
            "(CMake ${CMAKE_VERSION} < 3.19 has no string(JSON))")
    return()
  endif()
  string(JSON check_type ERROR_VARIABLE check_e TYPE "${out}")
  if(check_e OR NOT check_type STREQUAL "OBJECT")
    message(FATAL_ERROR "${check_cmd_text}: stdout is not one JSON object (${check_e})")
  endif()
endmacro()

function(check_json_get var want)
  string(JSON type ERROR_VARIABLE e TYPE "${out}" ${ARGN})
  string(REPLACE ";" "." path "${ARGN}")
  if(e)
    set(check_failures "${check_failures}  ${path}: missing\n" PARENT_SCOPE)
    set(${var} "" PARENT_SCOPE)
    return()
  endif()
  if(NOT type STREQUAL want)
    set(check_failures "${check_failures}  ${path}: a ${type}, not a ${want}\n" PARENT_SCOPE)
    set(${var} "" PARENT_SCOPE)
    return()
  endif()
  string(JSON v GET "${out}" ${ARGN})
  set(${var} "${v}" PARENT_SCOPE)
endfunction()

macro(json_num var)
  check_json_get(${var} NUMBER ${ARGN})
endmacro()

macro(json_str var)
  check_json_get(${var} STRING ${ARGN})
endmacro()

macro(json_bool var)
  check_json_get(${var} BOOLEAN ${ARGN})
endmacro()

# Comparisons go through if(LESS/GREATER), which compares as floating point.
macro(check_range what value lo hi)
  if(NOT "${value}" STREQUAL "")
    if("${value}" LESS "${lo}" OR "${value}" GREATER "${hi}")
      check_fail("${what} = ${value}: not in [${lo}, ${hi}]")
    endif()
  endif()
endmacro()

macro(check_eq what value want)
  if(NOT "${value}" STREQUAL "" AND NOT "${value}" EQUAL "${want}")
    check_fail("${what} = ${value}, want ${want}")
  endif()
endmacro()

# m / 1000 as a decimal string (m >= 0).
function(check_milli var m)
  math(EXPR i "${m} / 1000")
  math(EXPR f "${m} % 1000 + 1000")
  string(SUBSTRING "${f}" 1 3 f)
  set(${var} "${i}.${f}" PARENT_SCOPE)
endfunction()

# The printed ratio (6 significant digits) lies within a thousandth of
# num / den.
macro(check_ratio what value num den)
  if(NOT "${value}" STREQUAL "" AND NOT "${num}" STREQUAL "" AND NOT "${den}" STREQUAL "")
    if("${den}" EQUAL 0)
      check_fail("${what}: ${num} / 0")
    else()
      math(EXPR check_m "${num} * 1000 / ${den}")
      math(EXPR check_m_lo "${check_m} - 1")
      math(EXPR check_m_hi "${check_m} + 2")
      if(check_m_lo LESS 0)
        set(check_m_lo 0)
      endif()
      check_milli(check_lo ${check_m_lo})
      check_milli(check_hi ${check_m_hi})
      if("${value}" LESS "${check_lo}" OR "${value}" GREATER "${check_hi}")
        check_fail("${what} = ${value}: not ${num} / ${den} (${check_lo} .. ${check_hi})")
      endif()
    endif()
  endif()
endmacro()

macro(check_json_done name)
  if(check_failures)
    message(FATAL_ERROR "${name}: bad fields:\n${check_failures}")
  endif()
  message("${name}: every field present and consistent")
endmacro()

macro(check_plot dir name min_rows)
  if(NOT EXISTS "${dir}/${name}.dat" OR NOT EXISTS "${dir}/${name}.gp")
    check_fail("--plot: no ${dir}/${name}.dat or .gp")
  else()
    file(STRINGS "${dir}/${name}.dat" check_rows REGEX "^[^#]")
    list(LENGTH check_rows check_n)
    if(check_n LESS ${min_rows})
      check_fail("--plot: ${name}.dat has ${check_n} rows, want >= ${min_rows}")
    endif()
    find_program(check_gnuplot gnuplot)
    if(check_gnuplot AND NOT EXISTS "${dir}/${name}.png")
      check_fail("--plot: gnuplot is installed but ${name}.png was not drawn")
    endif()
  endif()
endmacro()

