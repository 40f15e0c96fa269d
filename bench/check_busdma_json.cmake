# CTest bench_busdma_quick: run `ccdma-bench busdma --quick --json` and check
# that every field is present and sane (not that any figure meets a target:
# a test never depends on timing).
#   cmake -DBENCH=<ccdma-bench> [-DEMULATOR=<prog|arg|...>] -P check_busdma_json.cmake
# EMULATOR is CMAKE_CROSSCOMPILING_EMULATOR with `|` between its words
# (CTest adds it only to commands that name a target, not to this script).
cmake_minimum_required(VERSION 3.16)

if(NOT BENCH)
  message(FATAL_ERROR "BENCH (the ccdma-bench program) is not set")
endif()
set(emu "")
if(EMULATOR)
  string(REPLACE "|" ";" emu "${EMULATOR}")
endif()
execute_process(COMMAND ${emu} ${BENCH} busdma --quick --json
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ccdma-bench busdma --quick --json exited with ${rc}\n${out}")
endif()
message("${out}")

if(CMAKE_VERSION VERSION_LESS 3.19)
  # No JSON parser: check that every key is there.
  foreach(k load_sync_unload_4k_ns load_sync_unload_4k_allocnow_ns dma_map_unmap_4k_ns
            memcpy_4k_ns busdma_vs_dma_4k reserved_2k_allocnow reserved_1m_openbsd
            isolation_2048_isolate)
    if(NOT out MATCHES "\"${k}\": [0-9]")
      message(FATAL_ERROR "field ${k} missing or not a number")
    endif()
  endforeach()
  message("checked key presence only (CMake ${CMAKE_VERSION} < 3.19 has no string(JSON))")
  return()
endif()

set(failures "")
macro(fail msg)
  string(APPEND failures "  ${msg}\n")
endmacro()

# Value of top-level key `k` into `var`; a failure (and "") when it is
# missing or not a number.
function(get_num var k)
  string(JSON type ERROR_VARIABLE e TYPE "${out}" ${k})
  if(e)
    set(failures "${failures}  ${k}: missing (${e})\n" PARENT_SCOPE)
    set(${var} "" PARENT_SCOPE)
    return()
  endif()
  if(NOT type STREQUAL "NUMBER")
    set(failures "${failures}  ${k}: a ${type}, not a number\n" PARENT_SCOPE)
    set(${var} "" PARENT_SCOPE)
    return()
  endif()
  string(JSON v GET "${out}" ${k})
  set(${var} "${v}" PARENT_SCOPE)
endfunction()

string(JSON bench ERROR_VARIABLE e GET "${out}" benchmark)
if(e OR NOT bench STREQUAL "busdma")
  fail("benchmark is '${bench}', not busdma ${e}")
endif()
get_num(page page_size)
if(page STREQUAL "" OR page LESS 4096)
  fail("page_size ${page}")
  set(page 4096)
endif()

# Times: positive and below 1 ms (generous enough for sanitizers and
# qemu-user); the ratio: positive and finite.
foreach(k load_sync_unload_4k_ns load_sync_unload_4k_allocnow_ns dma_map_unmap_4k_ns
          memcpy_4k_ns)
  get_num(v ${k})
  if(NOT v STREQUAL "" AND (NOT v GREATER 0 OR NOT v LESS 1000000))
    fail("${k} = ${v} ns: not in (0, 1e6)")
  endif()
endforeach()
foreach(k busdma_vs_dma_4k busdma_allocnow_vs_dma_4k)
  get_num(v ${k})
  if(NOT v STREQUAL "" AND (NOT v GREATER 0 OR NOT v LESS 1000))
    fail("${k} = ${v}: not in (0, 1000)")
  endif()
endforeach()

# Reserved bytes per map: exact counts.
#   ALLOCNOW (dense)     >= the map size
#   ALLOCNOW, A = 4096   size + (nsegments - 1) * 4095, rounded up to a slot
#   ISOLATE              >= ALLOCNOW, whole pages
#   lazy idle            0 (bounce memory is taken at load)
#   lazy loaded          >= the map size
#   OpenBSD              max(ceil(size / 4096) + 1, nsegments) * 4096
#   ratio                positive
foreach(shape "2k;2048;1" "64k_17seg;65536;17" "1m;1048576;257")
  list(GET shape 0 name)
  list(GET shape 1 size)
  list(GET shape 2 nseg)
  get_num(now reserved_${name}_allocnow)
  get_num(iso reserved_${name}_isolate)
  get_num(idle reserved_${name}_lazy_idle)
  get_num(loaded reserved_${name}_lazy_loaded)
  get_num(obsd reserved_${name}_openbsd)
  get_num(ratio ratio_${name}_openbsd_over_ccdma)
  get_num(ratio_iso ratio_${name}_openbsd_over_isolate)
  if(NOT now STREQUAL "" AND now LESS size)
    fail("reserved_${name}_allocnow = ${now} < ${size}")
  endif()
  get_num(a4k reserved_${name}_allocnow_align4k)
  math(EXPR want_a4k "${size} + (${nseg} - 1) * 4095")
  math(EXPR max_a4k "${want_a4k} + 4096")
  if(NOT a4k STREQUAL "" AND (a4k LESS want_a4k OR a4k GREATER max_a4k))
    fail("reserved_${name}_allocnow_align4k = ${a4k}: not size + (nsegments - 1) * 4095 = ${want_a4k} rounded up to a slot")
  endif()
  if(NOT iso STREQUAL "" AND NOT now STREQUAL "")
    math(EXPR rem "${iso} % ${page}")
    if(iso LESS now OR NOT rem EQUAL 0)
      fail("reserved_${name}_isolate = ${iso}: below ALLOCNOW (${now}) or not whole ${page}-byte pages")
    endif()
  endif()
  if(NOT idle STREQUAL "" AND NOT idle EQUAL 0)
    fail("reserved_${name}_lazy_idle = ${idle}, not 0")
  endif()
  if(NOT loaded STREQUAL "" AND loaded LESS size)
    fail("reserved_${name}_lazy_loaded = ${loaded} < ${size}")
  endif()
  math(EXPR pages "(${size} + 4095) / 4096 + 1")
  if(pages LESS nseg)
    set(pages ${nseg})
  endif()
  math(EXPR want "${pages} * 4096")
  if(NOT obsd STREQUAL "" AND NOT obsd EQUAL want)
    fail("reserved_${name}_openbsd = ${obsd}, the rule gives ${want}")
  endif()
  foreach(r ratio ratio_iso)
    if(NOT ${r} STREQUAL "" AND (NOT ${r} GREATER 0 OR NOT ${r} LESS 1000))
      fail("ratio for ${name} = ${${r}}: not in (0, 1000)")
    endif()
  endforeach()
endforeach()

# Isolation cost: dense >= size, isolated whole pages and >= dense.
foreach(size 256 512 1024 2048)
  get_num(dense isolation_${size}_dense)
  get_num(iso isolation_${size}_isolate)
  if(NOT dense STREQUAL "" AND dense LESS size)
    fail("isolation_${size}_dense = ${dense} < ${size}")
  endif()
  if(NOT iso STREQUAL "" AND NOT dense STREQUAL "")
    math(EXPR rem "${iso} % ${page}")
    if(iso LESS dense OR NOT rem EQUAL 0)
      fail("isolation_${size}_isolate = ${iso}: below dense (${dense}) or not whole pages")
    endif()
  endif()
endforeach()

if(failures)
  message(FATAL_ERROR "ccdma-bench busdma --quick --json: bad fields:\n${failures}")
endif()
message("bench_busdma_quick: every field present and sane")
