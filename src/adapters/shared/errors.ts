/**
 * Thrown by `parse` when a call to the provider's API (an email body fetch, a Gmail history read)
 * failed or answered nonsense. Unlike PayloadError the request itself was fine, so the webhook
 * endpoint should answer 5xx and let the provider retry later instead of dropping the event.
 */
export class ProviderFetchError extends Error {
  readonly provider: string;
  /** The provider's HTTP status, absent for network errors. */
  readonly status?: number;

  constructor(provider: string, message: string, status?: number) {
    super(message);
    this.name = 'ProviderFetchError';
    this.provider = provider;
    this.status = status;
  }
}
