# The Wharf container image: the static wharf binary and CA certificates,
# nothing else (no shell, no package manager), running as a non-root user
# with its data in the volume /data. See docs/deploy.md.
#
# The build context is the repository root, holding a static binary and the
# CA certificates (FROM scratch needs no registry; .ci/run does this):
#
#   CGO_ENABLED=0 go build -o wharf ./cmd/wharf
#   cp /etc/ssl/certs/ca-certificates.crt .
#   podman build -t wharf .        # or docker build
FROM scratch

COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY LICENSE /LICENSE
COPY wharf /wharf
# An empty /data owned by the user, so that a new volume there is too.
COPY --chown=65532:65532 deploy/data/ /data/

USER 65532:65532
# Through the environment rather than CMD's flags, so that admin commands
# run in the container (`wharf keys create ...`) open the same store.
ENV WHARF_DATA_DIR=/data \
    WHARF_LISTEN=0.0.0.0:8686
VOLUME /data
EXPOSE 8686
ENTRYPOINT ["/wharf"]
CMD ["serve"]
