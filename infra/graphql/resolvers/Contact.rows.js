// Query.contacts, step 2 (Contact table): the rows of the ids step 1 found, in one BatchGetItem (at most 100 keys,
// the page limit), in the order of the ids; a contact deleted since the index was written is left out.
import { runtime, util } from '@aws-appsync/utils';

export function request(ctx) {
  const { ids, nextToken } = ctx.prev.result;
  if (ids.length === 0) {
    runtime.earlyReturn({ items: [], nextToken });
  }
  return {
    operation: 'BatchGetItem',
    tables: {
      [ctx.env.CONTACT_TABLE]: {
        keys: ids.map((contactId) => util.dynamodb.toMapValues({ contactId })),
        consistentRead: false,
      },
    },
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const table = ctx.env.CONTACT_TABLE;
  const unread = ctx.result.unprocessedKeys?.[table] ?? [];
  if (unread.length > 0) {
    util.appendError('Some contacts of the page could not be read: ask again.', 'UnprocessedKeys');
  }
  const rows = ctx.result.data[table] ?? [];
  return {
    items: rows.filter((row) => row && row.name && !row.deletedAt),
    nextToken: ctx.prev.result.nextToken,
  };
}
