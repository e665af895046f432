// Package consumers is troupe's consumer runtime: typed handlers for the
// events a consumer cares about, run behind the bus or the stream with
// duplicates suppressed, failures retried, poison events parked in a
// dead-letter queue with their full payload, and follow-up events emitted
// with correlation and causation ids filled in.
//
// A consumer is declared once in a topology (package topology): its name,
// its subscription, its settings and its handler, a Router of typed routes:
//
//	router := consumers.MustRouter(reg,
//		consumers.On("orders.OrderPlaced", 2, func(ctx context.Context, e consumers.Event[domain.OrderPlacedV2]) error {
//			return consumers.Emit(ctx, domain.PaymentAuthorizedDef, domain.PaymentAuthorized{...})
//		}))
//
// The Runtime runs it: on Lambda through LambdaBus or LambdaStream, in
// `troupe dev` through HandleBusEvent and HandleStreamBatch. Around the
// handler, outermost first: dead-lettering, retries with backoff, a timeout,
// idempotency, the emitter, and panic recovery; each is a Middleware in its
// own file.
//
// What an error means: a handler error is retried (Retry.MaxAttempts runs);
// an error marked Permanent, or an event that cannot be decoded, is of an
// unknown type or version, or fails its schema, is dead-lettered at once.
// On the stream, a final error dead-letters the record and its key goes on;
// on the bus, a final retryable error goes back to Lambda (async retries,
// then the OnFailure destination), a permanent one is dead-lettered. A
// failure of the runtime's own dependencies (idempotency store, DLQ) is never
// dead-lettered: the event is delivered again.
//
// This package imports no AWS SDK package: the ports (IdempotencyStore,
// DeadLetterQueue, Publisher) have adapters under aws/ and local/.
package consumers
