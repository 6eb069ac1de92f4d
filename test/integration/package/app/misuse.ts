// Must not compile: the types shipped with the package check field names.
import { count, fromBatches, windowTumbling } from 'rxjs-structured-streaming';

fromBatches([[{ ts: 1, page: 'home' }]]).pipe(windowTumbling({ eventTime: 'ts', size: 5, keyBy: 'pgae', aggregate: { n: count() } }));
