#!/bin/sh
# missing-tool.sh TOOL [ignored...]: stands in for a test whose tool was not found when the
# tree was configured, so `meson setup` works on a host without the test tools (a production
# build) while `meson test` there fails and says why. scripts/test installs every tool.
echo "$1 is needed for this test and was not found when the build was configured; install it (scripts/test does) and run meson setup --reconfigure" >&2
exit 1
