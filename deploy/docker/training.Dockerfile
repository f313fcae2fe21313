# syntax=docker/dockerfile:1
# The image jobs, notebooks and serving replicas run in on Kubernetes (`kubernetes_default_image`),
# and the base of users' own images (`image` in a job spec):
#   FROM paddlecloud/training:0.1.0
#   RUN apt-get update && apt-get install -y --no-install-recommends python3-scipy
# It takes the platform's files from the platform image, so build that one first:
#   docker build -f deploy/docker/Dockerfile -t paddlecloud/paddlecloud:0.1.0 .
#   docker build -f deploy/docker/training.Dockerfile --build-arg PLATFORM_IMAGE=paddlecloud/paddlecloud:0.1.0 \
#       -t paddlecloud/training:0.1.0 .
#
# What the platform's pods expect in it (the same paths as on the local backend):
#   /usr/bin/python3 with numpy           jobs (examples/fit_a_line), the Python serving runtime
#   python3 -m notebook (Jupyter 6)        notebooks, with ipykernel
#   /paddlecloud/python                    the SDK, on PYTHONPATH (`import paddlecloud`)
#   /paddlecloud/bin/paddlecloud-model-server   the ONNX serving runtime
#   /paddlecloud/serving/paddlecloud_python_worker.py   the Python serving runtime
# The platform mounts its own copy of the SDK and the worker over these (from its data volume), so
# pods always run the server's version; the image's copies serve pods started without them.

ARG PLATFORM_IMAGE=paddlecloud/paddlecloud:latest
ARG DEBIAN_IMAGE=debian:12

FROM ${PLATFORM_IMAGE} AS platform

FROM ${DEBIAN_IMAGE}
# python3-onnx lets training code write model.onnx for the ONNX runtime; the libraries after it
# are what paddlecloud-model-server links.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates procps \
      python3 python3-numpy python3-notebook python3-ipykernel python3-onnx \
      libboost-json1.81.0 libboost-url1.81.0 libboost-container1.81.0 libssl3 libspdlog1.10 libfmt9 \
      libopencv-dnn406 libopencv-core406 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=platform /paddlecloud/bin/paddlecloud-model-server /paddlecloud/bin/
COPY --from=platform /paddlecloud/python/ /paddlecloud/python/
COPY --from=platform /paddlecloud/serving/ /paddlecloud/serving/
RUN if ldd /paddlecloud/bin/paddlecloud-model-server | grep 'not found'; then exit 1; fi
# The same uid as the platform's: files pods write on the shared NFS export stay the platform's to
# read and remove.
RUN groupadd --gid 10001 paddle \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/paddle --shell /bin/bash paddle \
 && install -d -o 10001 -g 10001 /home/jovyan
ENV PATH=/paddlecloud/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/paddlecloud/python \
    LANG=C.UTF-8
USER 10001:10001
WORKDIR /home/paddle
CMD ["/bin/bash"]
