"""PaddleCloud Python SDK (standard library only, so it imports in any notebook or training container).

    from paddlecloud import Client
    cloud = Client()              # PADDLE_CLOUD_URL / PADDLE_CLOUD_TOKEN, else ~/.paddlecloud/config
    print(cloud.version())

    from paddlecloud import create_cloud_job   # submit a distributed job, as in the product brief
    from paddlecloud import upload, download, list_files   # datasets and models (resumable transfers)
    from paddlecloud import account_usage      # CPU and GPU time; Job.usage() / Job.follow_usage() per job
    from paddlecloud import account_quota      # the account's quota and what is in use
    from paddlecloud import draw_board, LogWriter   # training curves on the Paddle Board (docs/board.md)
    from paddlecloud import board_run          # outside a job: draw_board records to a named standalone run
    from paddlecloud import serve, predict, serving_instances   # models as inference services (docs/serving.md)
"""
from .client import ApiError, Client, load_settings
from .files import download, get_entry, list_files, make_folder, move, remove, storage_usage, upload
from .jobs import Job, create_cloud_job, get_job, list_jobs, pack_directory, upload_package
from .usage import JobUsage, PodUsage, account_quota, account_usage
from .board import LogWriter, board_run, draw_board
from .serving import Serving, get_serving, predict, serve, serving_instances

__all__ = ["ApiError", "Client", "Job", "JobUsage", "LogWriter", "PodUsage", "Serving", "account_quota", "account_usage", "board_run", "create_cloud_job", "download", "draw_board",
           "get_entry", "get_job", "get_serving", "list_files", "list_jobs", "load_settings", "make_folder", "move", "pack_directory",
           "predict", "remove", "serve", "serving_instances", "storage_usage", "upload", "upload_package"]
__version__ = "0.1.0"
