// Query.messages, step 1 (Contact table): the contact must exist and be live, as
// backend/services/messaging/messages.py conversation() requires (live_contact_row).
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  const contactId = ctx.args.contactId;
  if (contactId.includes('#')) {
    util.error('contactId: not a contact id', 'ValidationError');
  }
  return {
    operation: 'GetItem',
    key: util.dynamodb.toMapValues({ contactId }),
    projection: { expression: '#id, #name, #deleted', expressionNames: { '#id': 'contactId', '#name': 'name', '#deleted': 'deletedAt' } },
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const row = ctx.result;
  if (!row || !row.name || row.deletedAt) {
    util.error(`No contact ${ctx.args.contactId}`, 'NotFound');
  }
  return row.contactId;
}
