# The operator and agent image: one image, the process chosen at run time (JUMPGATE_MODE=operator|agent).
# Build after `mvn package`:  buildah bud -t jumpgate:0.1.0 .   (or docker build)
# BASE_IMAGE is any Java 17+ runtime with /bin/sh (where no registry is reachable, a local image of that name);
# 25 is the one to ship: connections through a forward then run on virtual threads (hack/image.sh builds one).
ARG BASE_IMAGE=docker.io/library/eclipse-temurin:25-jre
FROM ${BASE_IMAGE}

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="Jumpgate" \
      org.opencontainers.image.description="Kubernetes operator that keeps machines behind NAT reachable through an SSH relay" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/jumpgate-dev/jumpgate" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="Jumpgate"

# Owned by root and read-only to the app: a compromised process cannot rewrite its own code.
COPY target/quarkus-app/lib/ /deployments/lib/
COPY target/quarkus-app/app/ /deployments/app/
COPY target/quarkus-app/quarkus/ /deployments/quarkus/
COPY target/quarkus-app/quarkus-run.jar /deployments/quarkus-run.jar

# The entrypoint picks the process (operator, or the agent's own), the JVM's flags are in the options files; all three
# are shared with bin/jumpgate. JAVA_OPTS and JAVA_OPTS_APPEND add to the flags.
COPY src/main/docker/jvm.options src/main/docker/agent.options src/main/docker/entrypoint.sh /deployments/

# The agent's class-data archive (AppCDS), written here by the image's own JVM so that it matches that JVM and this
# class path exactly (-Xmx256m: compressed pointers, as in every pod). The classes an agent pod loads (agent.classlist)
# are then mapped from one file, shared by every agent on the node, instead of parsed into each JVM's metaspace
# (BENCHMARKS.md, footprint). The entrypoint uses it when it is there; a JVM that cannot map it runs without it.
COPY src/main/docker/agent.classlist /deployments/
RUN java -Xshare:dump -XX:SharedClassListFile=/deployments/agent.classlist -XX:SharedArchiveFile=/deployments/agent.jsa \
      @/deployments/jvm.options @/deployments/agent.options -Xmx256m \
      -cp "/deployments/app/*:/deployments/lib/main/*:/deployments/lib/boot/*" > /dev/null
EXPOSE 8080
USER 185:185
WORKDIR /deployments
ENTRYPOINT ["/bin/sh", "/deployments/entrypoint.sh"]
