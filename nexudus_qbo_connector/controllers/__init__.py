from . import main, webhooks
