// The types of activities.js, for `import type * as activities from '../activities'`.
export declare function greet(name: string): Promise<string>;
export declare function add(a: number, b: number): Promise<number>;
export declare function processOrder(ms: number): Promise<string>;
export declare function sendNotificationEmail(): Promise<string>;
export declare function activityA(): Promise<string>;
export declare function activityB(): Promise<string>;
export declare function chargeCard(amount: number): Promise<string>;
