# CTest demo_smoke: run ccdma-demo (short) with --json and check its
# fields: every mapping succeeded and arrived intact, each was bounced once
# each way (confidential mode), the pool grew from empty and came back
# down to its floor with nothing in use.  Nothing here depends on speed:
# a slow machine maps fewer buffers and grows a smaller pool, and the
# demo waits for the shrink itself.
#   cmake -DDEMO=<ccdma-demo> [-DEMULATOR=<prog|arg|...>] -P check_demo_json.cmake
cmake_minimum_required(VERSION 3.16)
include(${CMAKE_CURRENT_LIST_DIR}/../bench/check_json.cmake)

if(NOT DEMO)
  message(FATAL_ERROR "DEMO (the ccdma-demo program) is not set")
endif()
check_json_run(${DEMO} --seconds 1 --inflight 64 --idle-ms 100 --json)

json_str(v program)
if(NOT v STREQUAL "ccdma-demo")
  check_fail("program is '${v}', not ccdma-demo")
endif()
json_bool(ok ok)
if(NOT ok)
  check_fail("ok is '${ok}'")
endif()
json_str(mode mode)
json_num(v threads)
check_eq(threads "${v}" 4)
json_num(v inflight_per_thread)
check_eq(inflight_per_thread "${v}" 64)
json_num(v seconds)
check_eq(seconds "${v}" 1)
json_num(v page_size)
check_range(page_size "${v}" 4096 1e9)
json_num(v share_cost_ns)
json_num(rsize pool_config region_size)
json_num(low pool_config low_watermark)
json_num(high pool_config high_watermark)
json_num(min pool_config min_bytes)
check_range(pool_config.min_bytes "${min}" "${rsize}" 1e15)
json_num(v pool_config idle_ms)
check_eq(pool_config.idle_ms "${v}" 100)
json_num(v pool_config max_bytes)
check_range(pool_config.region_size "${rsize}" 4096 1e12)

# Every mapping succeeded and every request and answer arrived intact.
json_num(maps maps)
json_num(bytes bytes_mapped)
check_range(maps "${maps}" 1 1e15)
check_range(bytes_mapped "${bytes}" "${maps}" 1e18)
json_num(v failures)
check_eq(failures "${v}" 0)
json_num(v corrupt)
check_eq(corrupt "${v}" 0)
json_num(v maps_per_s)
check_range(maps_per_s "${v}" 0.000001 1e12)

# Private buffers on a confidential device: one bounce copy to the device
# at each map, one back at each unmap, every byte each way; none in direct
# mode.
json_num(to bounce_copies_to_device)
json_num(from bounce_copies_from_device)
json_num(tob bounced_to_device_bytes)
json_num(fromb bounced_from_device_bytes)
if(mode STREQUAL "confidential")
  set(want_n "${maps}")
  set(want_b "${bytes}")
elseif(mode STREQUAL "direct")
  set(want_n 0)
  set(want_b 0)
else()
  check_fail("mode is '${mode}', not confidential or direct")
  set(want_n "")
endif()
if(NOT want_n STREQUAL "" AND NOT maps STREQUAL "")
  check_eq(bounce_copies_to_device "${to}" "${want_n}")
  check_eq(bounce_copies_from_device "${from}" "${want_n}")
  check_eq(bounced_to_device_bytes "${tob}" "${want_b}")
  check_eq(bounced_from_device_bytes "${fromb}" "${want_b}")
endif()

# The pool grew from empty (the sum of per-thread peaks in flight is not
# one moment's load, so only its presence and the ratio are checked).
json_num(shw shared_high_water)
json_num(live peak_live_bytes)
json_num(ratio footprint_ratio)
json_num(pshared peak shared_bytes)
json_num(pregions peak regions)
json_num(v peak in_use_bytes)
check_range(shared_high_water "${shw}" "${rsize}" 1e15)
check_range(peak.shared_bytes "${pshared}" "${rsize}" "${shw}")
check_range(peak.regions "${pregions}" 1 1e9)
if(NOT live STREQUAL "" AND NOT shw STREQUAL "" AND live GREATER 0)
  check_ratio(footprint_ratio "${ratio}" "${shw}" "${live}")
endif()

# After the idle wait: nothing in use, every region above the floor given
# back: no more may go (shared <= high watermark, or one region less would
# leave less than the low watermark or the pool's minimum), and the count
# adds up.
json_bool(floor after_idle at_floor)
if(NOT floor)
  check_fail("after_idle.at_floor is '${floor}'")
endif()
json_num(v after_idle waited_s)
check_range(after_idle.waited_s "${v}" 0 1e6)
json_num(shared after_idle shared_bytes)
json_num(v after_idle in_use_bytes)
check_eq(after_idle.in_use_bytes "${v}" 0)
json_num(regions after_idle regions)
json_num(grows after_idle regions_created)
json_num(shrinks after_idle regions_given_back)
check_range(after_idle.regions_created "${grows}" 1 1e9)
if(NOT regions STREQUAL "" AND NOT grows STREQUAL "" AND NOT shrinks STREQUAL "" AND
   NOT shared STREQUAL "" AND NOT rsize STREQUAL "" AND NOT low STREQUAL "" AND
   NOT high STREQUAL "" AND NOT min STREQUAL "")
  math(EXPR left "${grows} - ${shrinks}")
  check_eq(after_idle.regions "${regions}" "${left}")
  math(EXPR want "${regions} * ${rsize}")
  check_eq(after_idle.shared_bytes "${shared}" "${want}")
  if(shared GREATER high)
    math(EXPR after "${shared} - ${rsize}")
    if(NOT after LESS low AND NOT after LESS min)
      check_fail("after_idle: ${shared} shared bytes, more than the high watermark ${high}, "
                 "and one region less leaves ${after} >= the low watermark ${low} and "
                 ">= the minimum ${min}: the idle pool did not come down to its floor")
    endif()
  endif()
endif()

check_json_done(demo_smoke)
