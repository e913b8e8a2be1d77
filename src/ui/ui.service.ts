import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { isUiSubresource, loadUiAssets, uiAssetsDir, type UiAsset } from './ui-assets';

export class UiAssetUnavailableError extends DomainError {
  readonly httpStatus = 503;
}

/** A /ui/ path that is not one of the page's files. */
export class UiAssetNotFoundError extends DomainError {
  readonly httpStatus = 404;
}

/** Holds the operator page's static files in memory (a few small files, read once at boot). */
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

  /** A script or the stylesheet by its name under /ui/; any other name is a 404. */
  subresource(name: string): UiAsset {
    if (!isUiSubresource(name))
      throw new UiAssetNotFoundError('The operator page has no such file');
    return this.asset(name);
  }
}
