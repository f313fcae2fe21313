"""PaddleCloud Python SDK (standard library only, so it imports in any notebook or training container).

    from paddlecloud import Client
    cloud = Client()              # PADDLE_CLOUD_URL / PADDLE_CLOUD_TOKEN, else ~/.paddlecloud/config
    print(cloud.version())

    from paddlecloud import create_cloud_job   # submit a distributed job, as in the product brief
"""
from .client import ApiError, Client, load_settings
from .jobs import Job, create_cloud_job, get_job, list_jobs, pack_directory, upload_package

__all__ = ["ApiError", "Client", "Job", "create_cloud_job", "get_job", "list_jobs", "load_settings", "pack_directory",
           "upload_package"]
__version__ = "0.1.0"
