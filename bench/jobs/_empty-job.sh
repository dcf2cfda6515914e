#!/bin/bash
# Not a tool: the fixed cost every job pays (bash, sourcing _common.sh, rm -rf + mkdir).
# run.sh times it so the report can show how much of each job is harness.
. "${0%/*}/_common.sh"
