// Query.messages, step 2 (Message table): the contact's timeline, newest first (index byContact: messages,
// notes and events), leaving out the rows past their expiry that DynamoDB has not deleted yet (expiresAt, epoch
// seconds; the backend's is_live).
import { util } from '@aws-appsync/utils';

const LIMIT_DEFAULT = 50;
const LIMIT_MAX = 100;

export function request(ctx) {
  const limit = ctx.args.limit ?? LIMIT_DEFAULT;
  if (limit < 1 || limit > LIMIT_MAX) {
    util.error(`limit: between 1 and ${LIMIT_MAX}`, 'ValidationError');
  }
  return {
    operation: 'Query',
    index: 'byContact',
    query: {
      expression: '#contact = :contact',
      expressionNames: { '#contact': 'contactId' },
      expressionValues: util.dynamodb.toMapValues({ ':contact': ctx.prev.result }),
    },
    scanIndexForward: false,
    limit,
    nextToken: ctx.args.nextToken,
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const now = util.time.nowEpochSeconds();
  return {
    items: ctx.result.items.filter((row) => !row.expiresAt || row.expiresAt > now),
    nextToken: ctx.result.nextToken ?? null,
  };
}
