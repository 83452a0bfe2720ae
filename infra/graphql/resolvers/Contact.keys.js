// Query.contacts, step 1 (Contact table): the page's contact ids, as backend/services/contacts/contacts.py
// search_contacts finds them. No query: index byCreated (partition LIVE), newest first. An email, or a phone
// number in E.164: its unique-key row (email#<address> / phone#<number>) names the owner. Otherwise: index byName,
// the bucket of the folded name's first letter, nameSort beginning with the folded query. Both indexes are keys
// only: step 2 (Contact.rows.js) reads the rows.
import { util } from '@aws-appsync/utils';

const LIMIT_DEFAULT = 25;
const LIMIT_MAX = 100;
const QUERY_MAX = 254;
const E164 = /^\+[1-9][0-9]{5,14}$/;

export function request(ctx) {
  const limit = pageLimit(ctx.args.limit);
  const nextToken = ctx.args.nextToken;
  const text = (ctx.args.query ?? '').trim();
  if (text.length > QUERY_MAX) {
    util.error(`query: at most ${QUERY_MAX} characters`, 'ValidationError');
  }
  if (!text) {
    return {
      operation: 'Query',
      index: 'byCreated',
      query: {
        expression: '#partition = :live',
        expressionNames: { '#partition': 'listPartition' },
        expressionValues: util.dynamodb.toMapValues({ ':live': 'LIVE' }),
      },
      scanIndexForward: false,
      limit,
      nextToken,
    };
  }
  if (text.includes('@') || E164.test(text)) {
    if (nextToken) {
      util.error('nextToken: an exact match has a single page', 'ValidationError');
    }
    const key = text.includes('@') ? `email#${text.toLowerCase()}` : `phone#${text}`;
    return { operation: 'GetItem', key: util.dynamodb.toMapValues({ contactId: key }) };
  }
  const folded = foldName(text);
  return {
    operation: 'Query',
    index: 'byName',
    query: {
      expression: '#bucket = :bucket AND begins_with(#sort, :prefix)',
      expressionNames: { '#bucket': 'nameBucket', '#sort': 'nameSort' },
      expressionValues: util.dynamodb.toMapValues({ ':bucket': folded.charAt(0), ':prefix': folded }),
    },
    scanIndexForward: true,
    limit,
    nextToken,
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const result = ctx.result;
  if (!result) {
    return { ids: [], nextToken: null };
  }
  if (result.items === undefined) {
    // an address's unique-key row: its owner, if a live contact still claims it
    return { ids: result.ownerId ? [result.ownerId] : [], nextToken: null };
  }
  return { ids: result.items.map((item) => item.contactId), nextToken: result.nextToken ?? null };
}

function pageLimit(limit) {
  const value = limit ?? LIMIT_DEFAULT;
  if (value < 1 || value > LIMIT_MAX) {
    util.error(`limit: between 1 and ${LIMIT_MAX}`, 'ValidationError');
  }
  return value;
}

// backend/services/contacts/fields.py fold_name: lower case, accents removed (NFKD, then the combining marks
// dropped), single spaces. (Python's casefold also folds ß to ss; lower case keeps it.)
function foldName(name) {
  const folded = util.str.normalize(name, 'nfkd').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  return folded.split(' ').filter((part) => part.length > 0).join(' ');
}
