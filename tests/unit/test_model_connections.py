"""Every table model talks to DynamoDB through a pool as large as WecareModel.Meta says (a model whose Meta
missed it got pynamodb's default of 10, and the send path's threads reconnected on every call past ten)."""
from __future__ import annotations

from backend.models import SHARED_TABLE_MODELS, TABLE_MODELS
from backend.models.base import WecareModel


def test_every_model_has_the_app_s_pool_and_retries():
    for model in TABLE_MODELS + SHARED_TABLE_MODELS:
        assert model.Meta.max_pool_connections == WecareModel.Meta.max_pool_connections == 32, model.__name__
        assert model.Meta.max_retry_attempts == WecareModel.Meta.max_retry_attempts, model.__name__
