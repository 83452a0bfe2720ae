// Query.contact (Contact table): GetItem by contactId. An address row of the same table (phone#…, email#…,
// suppress#…) is never a contact, and a soft-deleted contact reads as none.
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  const contactId = ctx.args.contactId;
  if (contactId.includes('#')) {
    util.error('contactId: not a contact id', 'ValidationError');
  }
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ contactId }) };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const row = ctx.result;
  return row && row.name && !row.deletedAt ? row : null;
}
