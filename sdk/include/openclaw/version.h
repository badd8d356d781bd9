/* openclaw/version.h - the ABI version this SDK describes.
 * A plugin loads when its major equals the gateway's and its minor is not
 * newer than the gateway's. The change log of each minor is in sdk/ABI.md. */
#ifndef OPENCLAW_VERSION_H
#define OPENCLAW_VERSION_H

#define OC_ABI_MAJOR 1
#define OC_ABI_MINOR 2

#endif
