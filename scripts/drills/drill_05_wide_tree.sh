#!/usr/bin/env bash
# Drill 05: a wide worker tree of 200 descendants at depths 1-3 (20 children, each with 8
# grandchildren, one of which has a child); SIGTERM to the reaper must leave none of them.
# negative-control: tree-teardown
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/test_functions.sh
source "$script_dir/../lib/test_functions.sh"

drill_init "drill_05_wide_tree"

children=20

# node.sh branch: 7 sleeps + 1 "leaf" shell (which has 1 sleep) = 9 descendants.
cat >"$FF_TMP/node.sh" <<'WORKER'
case $1 in
  branch)
    for i in 1 2 3 4 5 6 7; do
      sleep 1000 &
    done
    sh "$0" leaf &
    ;;
  leaf)
    sleep 1000 &
    ;;
esac
wait
WORKER

cat >"$FF_TMP/worker.sh" <<'WORKER'
dir=$1
n=$2
i=0
while [ "$i" -lt "$n" ]; do
  sh "$dir/node.sh" branch &
  i=$((i + 1))
done
echo $$ >"$dir/ready.tmp" && mv "$dir/ready.tmp" "$dir/ready"
wait
WORKER

# Each child: itself + 7 sleeps + leaf shell + its sleep = 10; 20 children = 200
# descendants, plus the worker itself.
descendants=$((children * 10))
expected=$((descendants + 1))

start_reaper -- sh "$FF_TMP/worker.sh" "$FF_TMP" "$children"
wait_for_ready 10000
wait_for_marker_count "$expected" 20000 || drill_error "worker tree did not reach $expected processes"
log_info "worker tree is up: $descendants descendants + the worker"

stop_reaper_and_check 5
drill_pass "all $descendants descendants and the worker are gone"
