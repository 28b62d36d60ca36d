#!/bin/sh
# The image's entrypoint. One image, two processes:
# - the operator (Quarkus, quarkus-run.jar): the default;
# - the agent's own process (dev.jumpgate.agent.AgentMain, no Quarkus, far less memory): in agent pods, where the
#   operator sets JUMPGATE_MODE=agent, and for the standalone commands (`agent --file ...`, `authorized-key ...`).
# The JVM's flags: jvm.options (shared), agent.options (the agent's own); JAVA_OPTS and JAVA_OPTS_APPEND come last.
# Outside the image (bin/jumpgate), JUMPGATE_HOME is the built application (target/quarkus-app) and
# JUMPGATE_OPTIONS the directory of the options files (src/main/docker).
# JAVA_OPTS are split on spaces, as the base images' scripts do, but never expanded as file names.
set -ef
home="${JUMPGATE_HOME:-/deployments}"
options="${JUMPGATE_OPTIONS:-$home}"
if [ "${JUMPGATE_MODE:-operator}" = agent ] || [ "$#" -gt 0 ]; then
  # The image's class-data archive (the Dockerfile writes it for exactly this class path), when there is one, mapped
  # at the address it was written for (ArchiveRelocationMode=0, Java 17's default): its read-only part then stays
  # clean pages of the file, one copy in the node's page cache for every agent pod. Java 20+ relocates it to a random
  # address by default, which rewrites and so copies every page into each JVM's own memory (28 MiB per agent,
  # BENCHMARKS.md); where the address is taken, the JVM still relocates. The price: the archived class metadata (and
  # the class space next to it) sits at the same known address in every agent, as on Java 17, instead of a random
  # one; that only matters to an attacker who already has a memory-corruption bug in the JVM. To keep the random
  # address, set JAVA_OPTS_APPEND=-XX:ArchiveRelocationMode=1 (later flags win). UnlockDiagnosticVMOptions is needed
  # for the flag; it unlocks no behaviour by itself.
  cds=
  if [ -f "$home/agent.jsa" ]; then
    cds="-XX:SharedArchiveFile=$home/agent.jsa -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0"
  fi
  exec java @"$options/jvm.options" @"$options/agent.options" $cds $JAVA_OPTS $JAVA_OPTS_APPEND \
    -cp "$home/app/*:$home/lib/main/*:$home/lib/boot/*" dev.jumpgate.agent.AgentMain "$@"
fi
exec java @"$options/jvm.options" $JAVA_OPTS $JAVA_OPTS_APPEND -jar "$home/quarkus-run.jar"
