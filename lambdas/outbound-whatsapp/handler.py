"""outbound-whatsapp: `POST /whatsapp/send` (API Gateway) and the WhatsApp send queue (SQS, partial batch)."""
from backend.api.lambda_door import handle_http
from backend.api.queue_door import handle_queue, is_sqs_event


def handler(event, context):
    if is_sqs_event(event):
        return handle_queue("whatsapp", event)
    return handle_http("outbound-whatsapp", event)
