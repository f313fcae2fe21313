"""PaddleCloud Python SDK (standard library only, so it imports in any notebook or training container).

    from paddlecloud import Client
    cloud = Client()              # PADDLE_CLOUD_URL / PADDLE_CLOUD_TOKEN, else ~/.paddlecloud/config
    print(cloud.version())
"""
from .client import ApiError, Client, load_settings

__all__ = ["ApiError", "Client", "load_settings"]
__version__ = "0.1.0"
