// `paddlecloud-model-server`: see model_server/model_server.h.
#include "model_server/model_server.h"

int main(int argc, char** argv) { return paddlecloud::model_server::RunModelServer(argc, argv); }
