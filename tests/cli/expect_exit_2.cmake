# Runs `crmkit summary INPUT --customer-col ID` and fails unless it exits with code 2 and says
# one line on standard error.
execute_process(COMMAND "${PROGRAM}" summary "${INPUT}" --customer-col ID
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCHALL "\n" newlines "${err}")
list(LENGTH newlines lines)
if(NOT code EQUAL 2 OR NOT lines EQUAL 1 OR NOT out STREQUAL "")
  message(FATAL_ERROR "expected exit code 2 and one line on stderr, got ${code}: '${err}'")
endif()
