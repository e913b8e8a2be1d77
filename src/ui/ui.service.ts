import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { loadUiAssets, uiAssetsDir, type UiAsset } from './ui-assets';

export class UiAssetUnavailableError extends DomainError {
  readonly httpStatus = 503;
}

/** Holds the operator page's static files in memory (three small files, read once at boot). */
@Injectable()
export class UiService implements OnModuleInit {
  private readonly logger = new Logger(UiService.name);
  private assets = new Map<string, UiAsset>();
  private loadError: string | null = null;

  onModuleInit(): void {
    const dir = uiAssetsDir();
    try {
      this.assets = loadUiAssets(dir);
    } catch (err) {
      // The API must keep serving even when the page's files were left out of an image.
      this.loadError = err instanceof Error ? err.message : String(err);
      this.logger.error({ msg: 'operator page unavailable', error: this.loadError });
    }
  }

  asset(name: string): UiAsset {
    const asset = this.assets.get(name);
    if (!asset) {
      throw new UiAssetUnavailableError(
        `The operator page is unavailable: ${this.loadError ?? `unknown asset ${name}`}`,
      );
    }
    return asset;
  }
}
