# Writes `crmkit rfm INPUT --format json` (two tables: customers; segments, headed by
# segment::segment_summary_row's field list) to
# OUTPUT and checks that Python's json module parses it into the expected tables.
execute_process(COMMAND "${PROGRAM}" rfm "${INPUT}" --customer-col ID --format json
                        --out "${OUTPUT}"
                RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "crmkit rfm failed (${code}): ${err}")
endif()
execute_process(
  COMMAND "${PYTHON}" -c
          "import json, sys; d = json.load(open(sys.argv[1])); assert list(d) == ['customers', 'segments'], list(d); assert len(d['customers']) == 2357; assert sum(s['count'] for s in d['segments']) == 2357"
          "${OUTPUT}"
  RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "invalid JSON output: ${err}")
endif()
