# ccdma-devsim, the project's vhost-user-blk device process, driven by a
# tiny vhost-user client inside each test (devsim_client.h).
foreach(t devsim_rw devsim_protocol devsim_cli devsim_region_gone)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
    ccdma_add_backend_test(${t} TIMEOUT 60)
  endif()
endforeach()

# A hostile device (issue 13, section 1): ccdma-blk --verify against
# ccdma-devsim --misbehave MODE, one test per mode (docs/devsim.md).
set(CCDMA_MISBEHAVE_MODES
  id-range id-num id-unposted double idx-ahead idx-back len-over len-short
  used-early status-bad status-none late-write write-outside read-unoffered
  config-change config-mix capacity-0 capacity-huge blk-size-0 blk-size-odd seg-max-0
  size-max-0 num-queues-0 num-queues-huge reply-code reply-size reply-fds
  ack-fail hangup stall slow pause)
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/e2e_misbehave.c)
  add_executable(e2e_misbehave e2e_misbehave.c)
  target_link_libraries(e2e_misbehave PRIVATE ccdma_internal ccdma_blkjob
    Threads::Threads)
  target_compile_definitions(e2e_misbehave PRIVATE _GNU_SOURCE)
  target_include_directories(e2e_misbehave PRIVATE ${PROJECT_SOURCE_DIR}/bench)
  foreach(m ${CCDMA_MISBEHAVE_MODES})
    add_test(NAME e2e_misbehave_${m}
      COMMAND e2e_misbehave "${CCDMA_QSD}" $<TARGET_FILE:ccdma-devsim> ${m})
    set_tests_properties(e2e_misbehave_${m} PROPERTIES TIMEOUT 120
      SKIP_RETURN_CODE 77 LABELS device
      ENVIRONMENT "CCDMA_TEST_EMULATOR=${CCDMA_TEST_EMULATOR}")
  endforeach()
endif()
