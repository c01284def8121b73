#!/bin/sh
# Container entrypoint: runs the container's command under procpush, which meters the command's whole process
# tree, pushes on the interval and once more when it ends, and exits with the command's exit status.
#
#   ENTRYPOINT ["tini", "--", "/usr/local/bin/entrypoint.sh"]
#   docker run -e RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL=http://pushgateway:9091 \
#              -e RESOURCE_ATTRIBUTION_JOB=nightly-etl my-job python3 etl.py
#
# Configure it with the RESOURCE_ATTRIBUTION_* variables (see `procpush --help`); further procpush flags go
# in PROCPUSH_FLAGS, split on spaces (e.g. PROCPUSH_FLAGS="--final-timeout 10 --label team=data").
set -eu
set -f # PROCPUSH_FLAGS is split on spaces but never glob-expanded.

# procpush installed in the app rather than globally (npm install procpush) is found as well.
if ! command -v procpush >/dev/null 2>&1; then
  PATH="$PWD/node_modules/.bin:$PATH"
fi

# exec, so procpush takes this shell's place and receives `docker stop`'s SIGTERM itself. This is the
# `npx procpush -- "$@"` of a terminal, without npx: `npm exec` starts the bin through `sh -c`, which does not
# pass SIGTERM on, so the job would be killed without its final push. It also saves npm's ~50 MB of RSS.
# shellcheck disable=SC2086
exec procpush ${PROCPUSH_FLAGS:-} -- "$@"
