/** Uploads: tariff decks with their validation report, CDR files with progress, per-file counts and rejects. */
import type { ApiRoute } from "./route";

export const UPLOAD_ROUTES: readonly ApiRoute[] = [];
