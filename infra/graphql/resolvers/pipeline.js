// The before/after steps of every pipeline resolver: nothing before, the last function's result after.
export function request(ctx) {
  return {};
}

export function response(ctx) {
  return ctx.prev.result;
}
