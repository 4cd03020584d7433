/*
 * How a setting is named in a sentence. Settings are named as resolveConfig
 * names them: environment variables (`REDIS_URL`), options (`url option`,
 * `clients.cache.url`), or `defaults`.
 */

/** True for a setting that holds a URL: `REDIS_URL`, `REDIS_CACHE_URL`, `clients.cache.url`, `url option`. */
export function isUrlSetting (setting: string): boolean {
  return setting.endsWith('_URL') || setting.endsWith('.url') || setting === 'url option'
}

/** A setting as it reads in a sentence: `REDIS_URL`, `the password option`, `the defaults`. */
export function settingName (setting: string): string {
  return setting.endsWith(' option') || setting === 'defaults' ? `the ${setting}` : setting
}
